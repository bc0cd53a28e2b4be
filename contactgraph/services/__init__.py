"""The only writers of contacts: every create, patch, delete, merge, import row and bot answer."""
