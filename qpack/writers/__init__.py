"""Writers turn a Plan into files: wheels (wheel.py) or distro trees and lists (tree.py).

A writer never re-decides ownership: it writes what the plan says, atomically.
"""
