"""Arrays kept on disk in row chunks, so a project's features never need to fit in memory.

:class:`DiskArray` is a 2-D ``.npy`` file read through a memory map, one chunk of rows at a
time; it pickles as its path, shape and row selection, so a task on a Dask worker reads exactly
the rows it needs from the same file (the data dir must then be on storage the workers share).
:func:`column_moments` computes per-column means and standard deviations over chunks, equal to
numpy's ``mean(axis=0)`` and ``std(axis=0)`` to the last bit.
"""

from ls_cleanlab.ondisk.arrays import CHUNK_BYTES, DiskArray, column_moments, scratch_dir

__all__ = ["CHUNK_BYTES", "DiskArray", "column_moments", "scratch_dir"]
