# The agentreel server image (used by docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY agentreel agentreel
COPY core core
COPY sdk sdk
COPY collector collector
COPY storage storage
COPY replay replay
COPY signals signals
COPY dashboard dashboard
RUN pip install --no-cache-dir '.[server]'
EXPOSE 4317 4318
CMD ["agentreel", "serve"]
