"""Images: the Builder seam (base.py) and its builders, registered in the ``a2c.builders``
entry-point group; layers.py streams a plan's files, validate.py proves an image serves."""
