"""The on-disk formats of a generation: one module per format (its file names, writer and
reader), and ``layout`` for the generation's folders, manifest and atomic switch."""
