"""Pulumi entry point: everything happens in components.program.main()."""

from components.program import main

main()
