# citechat's web app, installed from its wheel. Untested: the machine it was written on
# cannot run Docker; `tests/test_package.py` checks the same wheel in a fresh virtualenv.
#
#   docker build -t citechat .
#   docker run -p 8501:8501 -v citechat-data:/data citechat
#
# The first launch adds the sample documents; `docker exec <container> citechat ingest
# /path` adds more. Set CITECHAT_* variables (`-e`) as in the README.

FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY rag ./rag
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /dist

FROM python:3.11-slim
COPY --from=wheel /dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl && rm /tmp/*.whl
ENV CITECHAT_DATA_DIR=/data \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false
VOLUME /data
WORKDIR /data
EXPOSE 8501
CMD ["citechat", "app"]
