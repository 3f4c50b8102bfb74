"""Documents leaders ask for, made from the database: the monthly data-quality report (数据质量月报).

Each report is three steps kept apart: one read (SQL → a typed structure of frames),
pure figures and layout (structure → ``.docx`` bytes), and the callers (``python -m
reports`` and the 数据质量 page's download) that pass the clock and the connection in.
"""
