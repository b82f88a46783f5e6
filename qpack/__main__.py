import sys

from qpack.cli import main

sys.exit(main())
