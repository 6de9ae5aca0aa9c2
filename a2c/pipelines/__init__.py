"""CI/CD pipeline kinds: one module per kind, each a registered class (entry-point group
``a2c.pipelines``), shaped like the deployment targets. None is registered yet."""
