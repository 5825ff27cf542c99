"""The text stage: the one place that reads post text.

``tokens`` turns texts into the token table (normalised, slang expanded, hashtags split, the
vocabulary stemmed once); ``themes`` loads theme files and tags posts with the themes they
match. Between collect and compute: it imports only from stages to its left. See docs/text.md.
"""
