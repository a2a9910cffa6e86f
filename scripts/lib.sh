# Shared by scripts/quickstart and scripts/test: install what the build
# needs (Debian 12 packages) and build cadre. Sourced, not run.

CADRE_PACKAGES=(build-essential cmake pkg-config libzmq3-dev cppzmq-dev capnproto libcapnp-dev
                libsqlite3-dev libboost-dev libgtest-dev libgmock-dev nlohmann-json3-dev python3 procps
                libtomlplusplus-dev libbenchmark-dev libsodium-dev)

cadre_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

# Installs the packages that are missing, with sudo when not root.
cadre_install_packages() {
  local missing=()
  for p in "${CADRE_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing missing packages: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "${missing[@]}"
}

# cadre_build BUILD_DIR [extra cmake args...]: configures and builds everything.
cadre_build() {
  local dir="$1"; shift
  local root; root="$(cadre_root)"
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)"
}

# cadre_build_daemons BUILD_DIR: configures like cadre_build (so the two
# share a build folder without reconfiguring it) and builds the binaries only.
cadre_build_daemons() {
  local dir="$1"
  local root; root="$(cadre_root)"
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$dir" -j"$(nproc)" --target cadre-master cadre-agent cadre
}
