#!/usr/bin/env bash
# Installs every Debian 12 package lpsim needs to build, test, benchmark and run its notebooks.
# Run as root (or with sudo). Safe to run again: apt-get skips what is already installed.
set -euo pipefail
packages=(
  # toolchain
  build-essential cmake ninja-build ccache git pkg-config
  # libraries lpsim links or includes
  libboost-dev libeigen3-dev libhdf5-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libtomlplusplus-dev librandom123-dev libmpfr-dev libgmp-dev
  openmpi-bin libopenmpi-dev
  # peers the benchmarks compare against
  libopenblas-dev libdnnl-dev libxsmm-dev
  # the default data set (no download at run time)
  dataset-fashion-mnist
  # notebooks and trace analysis (Debian's python3 at /usr/bin/python3)
  python3 python3-h5py python3-numpy python3-matplotlib python3-pandas python3-xarray python3-h5netcdf
  jupyter-nbconvert python3-ipykernel jupyter-notebook
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
