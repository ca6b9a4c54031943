#!/usr/bin/env bash
# Provisions the bilbo Dask image on Ubuntu 22.04; Packer runs it as root
# (infra/ami/bilbo-image.pkr.json). The instance bootstrap relies on exactly:
#   /opt/bilbo/venv/bin/dask, /opt/bilbo/venv/bin/jupyter,
#   /opt/bilbo/venv/bin/python (with boto3), the system user `dask`
#   (home /home/dask), git and systemd.
set -euo pipefail

readonly BILBO_DIR=/opt/bilbo
readonly VENV="${BILBO_DIR}/venv"
readonly DASK_USER=dask
readonly DASK_HOME=/home/dask
readonly APT_UNITS=(apt-daily.timer apt-daily-upgrade.timer unattended-upgrades.service)

export DEBIAN_FRONTEND=noninteractive
apt_get() {
  # A late apt run of the first boot may still hold the dpkg lock: wait for it instead of failing.
  apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

log() { printf '==> bilbo image: %s\n' "$*"; }

log "waiting for cloud-init"
# `status --wait` exits non-zero when cloud-init only reports recoverable errors; the build goes on.
cloud-init status --wait >/dev/null || true

log "unattended upgrades off during the build"
systemctl stop "${APT_UNITS[@]}"
systemctl mask "${APT_UNITS[@]}"

log "system packages"
apt_get update
apt_get -y upgrade
apt_get install -y --no-install-recommends python3-venv git ca-certificates

log "user ${DASK_USER}"
if ! id -u "${DASK_USER}" >/dev/null 2>&1; then
  useradd --system --create-home --home-dir "${DASK_HOME}" --shell /bin/bash "${DASK_USER}"
fi
chmod 0750 "${DASK_HOME}"

log "Python environment ${VENV}"
install -d -m 0755 "${BILBO_DIR}"
# Pinned for reproducible images: every build of this file installs the same
# top-level versions (Python 3.10 wheels for amd64 and arm64). s3fs brings
# aiobotocore, which accepts only a narrow botocore range: pip picks the
# aiobotocore that accepts boto3's botocore. requirements.lock records the
# whole resolved set.
cat >"${BILBO_DIR}/requirements.txt" <<'REQUIREMENTS'
dask[distributed,dataframe,array,diagnostics]==2024.12.1
distributed==2024.12.1
bokeh==3.6.2
jupyterlab==4.3.4
dask-labextension==7.0.0
papermill==2.6.0
pyarrow==18.1.0
s3fs==2024.12.0
prometheus-client==0.21.1
boto3==1.35.36
REQUIREMENTS
python3 -m venv "${VENV}"
"${VENV}/bin/python" -m pip install --no-cache-dir --upgrade pip==24.3.1
"${VENV}/bin/python" -m pip install --no-cache-dir --requirement "${BILBO_DIR}/requirements.txt"
"${VENV}/bin/python" -m pip freeze --all >"${BILBO_DIR}/requirements.lock"
"${VENV}/bin/python" -m pip check

log "checking what the bootstrap relies on"
"${VENV}/bin/dask" --version
"${VENV}/bin/jupyter" lab --version
# grep reads the whole list: with pipefail, `grep -q` could end the pipe early and fail it.
"${VENV}/bin/jupyter" labextension list 2>&1 | grep dask-labextension
"${VENV}/bin/python" -c 'import boto3, distributed, papermill, prometheus_client, pyarrow, s3fs'
git --version
systemctl --version >/dev/null

log "unattended upgrades back on"
# A security update must not restart the Dask services in the middle of a job:
# needrestart only lists the services that would need it.
install -d -m 0755 /etc/needrestart/conf.d
cat >/etc/needrestart/conf.d/50-bilbo.conf <<'NEEDRESTART'
$nrconf{restart} = 'l';
NEEDRESTART
systemctl unmask "${APT_UNITS[@]}"

log "cleaning up"
apt_get -y autoremove --purge
apt_get clean
rm -rf /var/lib/apt/lists/* /root/.cache/pip
log "done"
