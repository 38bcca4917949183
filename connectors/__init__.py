"""Protocol code (LTI, CASE) that knows nothing of Standards Bridge's tables."""
