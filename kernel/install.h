/* `warden install`: writes the kernelspec (kernel.json + logos) so Jupyter can launch warden. */
#ifndef WARDEN_INSTALL_H
#define WARDEN_INSTALL_H

int install_main(int argc, char **argv);

#endif
