from qpack.cli import run

run()
