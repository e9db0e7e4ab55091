#!/bin/bash -eu
# oss-fuzz/install-build-deps.sh - what the build images (oss-fuzz/Dockerfile,
# .clusterfuzzlite/Dockerfile) add to OSS-Fuzz's base-builder: CPython 3.11
# to embed (deadsnakes: the base image's Ubuntu has none), cJSON, zip for the
# seed corpora, a CMake of at least 3.18.
apt-get update
apt-get install -y --no-install-recommends software-properties-common pkg-config libcjson-dev zip
add-apt-repository -y ppa:deadsnakes/ppa
apt-get update
apt-get install -y --no-install-recommends python3.11 python3.11-dev
pip3 install --no-cache-dir 'cmake>=3.18'
