"""The information catalog (信用信息共享清单): items, fields, providers, modes, levels."""
