# warden in a container (docs/cluster.md): Debian 12, built and installed by .ci/setup, the
# kernelspec in /usr/local/share/jupyter/kernels/warden, Jupyter run by an ordinary user (jovyan,
# uid 1000, as in jupyter/docker-stacks). No extra privilege is needed: under Docker's default
# seccomp profile the namespace jail is refused and warden runs cells in its Landlock jail
# (Linux >= 5.13; TCP rules need Landlock ABI 4, Linux 6.7), saying so in the first cell.
#
#   docker build -t warden .
#   docker run --rm -p 8888:8888 --pids-limit 1024 -v "$PWD/notebooks:/home/jovyan/work" warden
#
# --pids-limit: started by an ordinary user, the Landlock jail cannot limit tasks (RLIMIT_NPROC
# would count the user's every process); the container's pids cgroup is what bounds a fork bomb.
FROM debian:12

COPY . /opt/warden-src
# jupyterhub (Debian's 3.0) brings jupyterhub-singleuser, which KubeSpawner starts
RUN /opt/warden-src/.ci/setup \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends jupyterhub \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /etc/jupyter \
 && echo "c.MultiKernelManager.default_kernel_name = 'warden'" \
      > /etc/jupyter/jupyter_notebook_config.py \
 && useradd --create-home --uid 1000 --shell /bin/bash jovyan \
 && mkdir -p /home/jovyan/work && chown jovyan:jovyan /home/jovyan/work

USER jovyan
WORKDIR /home/jovyan/work
ENV HOME=/home/jovyan
EXPOSE 8888
CMD ["jupyter", "notebook", "--ip=0.0.0.0", "--port=8888", "--no-browser", \
     "--NotebookApp.default_url=/tree"]
