# genrebot: a slim CPU image that runs `python -m bot` (the Discord bot with DISCORD_TOKEN set, the
# console front end without one).
#
#   docker build -t genrebot .
#   docker run -d --name genrebot -e DISCORD_TOKEN=... -v genrebot-data:/var/lib/genrebot genrebot
#   docker run -it --rm -v genrebot-data:/var/lib/genrebot genrebot          # console, no Discord
#
# NOTE: Docker cannot run on the machine this file was written on, so this image has not been built
# there; it was written against the project's own install steps (pyproject.toml) and kept simple.
FROM python:3.11-slim

# ffmpeg: yt-dlp uses it to probe and remux audio from sites that serve it in fragments. (Decoding
# needs no system library: soundfile and PyAV wheels bring libsndfile and FFmpeg's libraries.)
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes don't reinstall them. These are the
# runtime's only (ONNX Runtime serves data/model.onnx): no torch, about 0.45 GB; training and the tests
# need the `train` extra, which the image leaves out.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The runtime packages and the shipped model (data/model.onnx, beside its checkpoint data/model.pt); .dockerignore keeps out databases,
# caches, tests and training runs.
COPY genre_engine/ genre_engine/
COPY storage/ storage/
COPY recommender/ recommender/
COPY bot/ bot/
COPY cogs/ cogs/
COPY console/ console/
COPY genrebot/ genrebot/
COPY data/ data/

# State lives outside the image (GENREBOT_HOME): mount a volume here. (Not under /app/data, which
# holds the shipped model.)
RUN useradd --create-home --uid 10001 genrebot \
    && mkdir -p /var/lib/genrebot \
    && chown genrebot:genrebot /var/lib/genrebot
ENV GENREBOT_HOME=/var/lib/genrebot
VOLUME ["/var/lib/genrebot"]
USER genrebot

# `docker stop` sends SIGTERM: the bot closes the gateway, lets running classifications finish and
# closes the database.
CMD ["python", "-m", "bot"]
