"""Studies: the measurements behind genrebot's choices (segments, tag thresholds, "not sure", the
compact embedding, the variety sweep), each runnable as ``python -m studies.NAME``. A study that
chooses a shipped value writes the data file the product reads, and records its command. The
product never imports this package."""
