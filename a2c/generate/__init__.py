"""Pure generators: models in, ``{relative path: text}`` out, rendered from templates/."""
