"""How the program's Python process collects garbage.

A fleet registers tens of thousands of resources, each with its Outputs, futures and protobuf messages. With the
interpreter's default thresholds (700, 10, 10) a full collection runs every few thousand resources and each one
traverses the whole heap, so collection time grows with the square of the fleet: at 50 clusters 21 full
collections took 15 of 48 s (bench, `gc.callbacks`). Larger thresholds still collect the cyclic garbage Outputs
and futures leave, in a fraction of the passes (1 full collection, 6 s in all); peak memory is unchanged
(1016 and 1018 MiB). A real `pulumi preview` or `up` runs the same process, so it gains the same.
"""

from __future__ import annotations

import gc

# (objects allocated before a young collection, young collections before a middle one, middle before a full one)
GC_THRESHOLDS = (50_000, 20, 100)


def tune_garbage_collection() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
