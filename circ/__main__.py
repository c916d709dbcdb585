"""`python -m circ` runs the `circ` command."""

from circ.cli import main

main()
