"""The run folder's format, owned in one place: where a training run's files live (``folder.py``: paths, manifest,
lock, logs, checkpoints' completeness, the adapter a folder holds), how a run's model is named in reports
(``naming.py``), and how files of settings are read (``config_files.py``). Training writes run folders; evaluation,
reporting and the grid read them through this package. It loads no torch.
"""
