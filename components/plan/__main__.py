"""The old name of the offline plan's command: the same arguments, the same exit codes."""

import runpy

if __name__ == "__main__":
    runpy.run_module("offline_plan", run_name="__main__", alter_sys=True)
