# GraphiQL's scripts and styles from the npm registry, so that its page needs no CDN.
FROM node:20-slim AS graphiql
COPY graphiql/package.json graphiql/install.sh /graphiql/
RUN bash /graphiql/install.sh /graphiql/assets

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 contactgraph

# The package only, without the [dev] extras; the sources are not kept in the image.
COPY pyproject.toml README.md /src/
COPY contactgraph /src/contactgraph
RUN pip install /src && rm -rf /src
COPY --from=graphiql /graphiql/assets /opt/graphiql
ENV CONTACTGRAPH_GRAPHIQL_ASSETS=/opt/graphiql

USER contactgraph
WORKDIR /home/contactgraph

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["contactgraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
