"""Provider adapters: one module per provider behind ``providers.base.Provider``."""
