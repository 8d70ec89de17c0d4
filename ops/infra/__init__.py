"""The deploy templates by concern; ``ops.render_infra`` assembles and writes them."""
