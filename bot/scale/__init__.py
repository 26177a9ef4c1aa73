"""Running on several machines: roles, the pollers' job engine, the core lock (issue 16)."""
