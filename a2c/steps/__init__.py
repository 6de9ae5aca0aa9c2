"""One module per workflow step, named after its command; each has ``run(env, request)``.

Steps never import each other: what two steps share lives below them (a2c.applications,
a2c.planning, a2c.archive, the targets, images and generate packages).
"""
