"""Masking numbers: choosing one, managing them, moving conversations off one."""
