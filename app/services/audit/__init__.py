"""The audit log and owner/sitter alerts: writing them and telling them in sentences."""
