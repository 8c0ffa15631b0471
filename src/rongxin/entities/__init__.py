"""Market entities (市场主体): USCC, registry, size class, regions, industries."""
