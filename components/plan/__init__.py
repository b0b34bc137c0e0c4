"""`python -m components.plan` is the offline plan's earlier name: it runs `python -m offline_plan`.

The tool lives outside the program (offline_plan/); this package holds only the old entry point, so that
scripts and CI jobs written for it keep working. It imports nothing of the tool.
"""
