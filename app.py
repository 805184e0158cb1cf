"""`streamlit run app.py` from a checkout: runs the page that ships in the package."""

import runpy

runpy.run_module("rag.app.page", run_name="__main__")
