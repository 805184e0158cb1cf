"""Format readers: a file's bytes into an `Extracted` (text, title, pages, furniture).

One module per format: text.py (.txt, .md), html.py, pdf.py (with layout.py, hyphens.py
and assembly.py), docx.py. rag/documents.py picks the reader by file type and turns
failures into one-line reasons; readers raise UnreadableDocument themselves when they
know why.
"""
