# The welcomebot image: code, pinned dependencies and the trained model. One image runs every
# part (Rasa replicas, action server, gateway); docker-compose.yml picks the command.
FROM python:3.10.13-slim-bookworm

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 TF_CPP_MIN_LOG_LEVEL=3 \
    PATH=/app/.venv/bin:$PATH
WORKDIR /app
RUN useradd --system --create-home --home-dir /home/welcomebot welcomebot

# Dependencies first, in their own layer: they change far less often than code or content.
# The packages are installed editable so that the code finds nlu/, content/ and locales/ beside it.
COPY pyproject.toml constraints.txt ./
RUN mkdir -p welcomebot bot actions \
    && touch welcomebot/__init__.py bot/__init__.py actions/__init__.py \
    && python -m venv .venv \
    && .venv/bin/pip install --quiet --upgrade "pip<24.1" "setuptools<70" wheel \
    && .venv/bin/pip install --quiet -c constraints.txt -e . \
    && .venv/bin/pip check

COPY . .
# The model is part of the image (trained from the data in it), so every replica serves the same one.
# Catalogs are compiled here too, so the code and data stay read-only for the services; only
# Rasa's cache and the gateway's state directory are written at run time.
RUN .venv/bin/welcomebot train \
    && mkdir -p /var/lib/welcomebot /app/.rasa \
    && chown -R welcomebot /var/lib/welcomebot /app/.rasa

USER welcomebot
ENV WELCOMEBOT_VAR_DIR=/var/lib/welcomebot
CMD ["welcomebot", "--help"]
