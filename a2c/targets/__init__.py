"""Deployment targets: one module per target, each a registered class (entry-point group
``a2c.targets``) that owns its section of deployment.json and renders its output folder."""
