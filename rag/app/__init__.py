"""citechat's web app (Streamlit): `page.py` is the page, run by `citechat app` or by
`streamlit run app.py` from a checkout. Nothing here is imported by the library.

The page lives in a package of its own because Streamlit puts the script's folder first
on `sys.path`: from `rag/` itself, `rag/types.py` would shadow the standard library's.
"""
