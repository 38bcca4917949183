"""Standards Bridge: between LMSs (LTI 1.3) and competency frameworks (CASE)."""

__version__ = "0.1.0"
