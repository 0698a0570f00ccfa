# SPDX-License-Identifier: MIT
# Installs what surrounds the binaries: the udev rule, the systemd units, the tmpfiles
# snippet, the man pages, the Veeam job scripts, the state directory and the configuration
# file.
#
# The udev and systemd directories are where this system's udev and systemd look (their
# pkg-config files say; /lib/... on Debian 12, /usr/lib/... on newer systems). Set them
# on the command line to package for another system.
include_guard(GLOBAL)

pkg_get_variable(ubc_udev_dir udev udevdir)
if(NOT ubc_udev_dir)
  set(ubc_udev_dir "${CMAKE_INSTALL_PREFIX}/lib/udev")
endif()
pkg_get_variable(ubc_unit_dir systemd systemdsystemunitdir)
if(NOT ubc_unit_dir)
  set(ubc_unit_dir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
pkg_get_variable(ubc_tmpfiles_dir systemd tmpfilesdir)
if(NOT ubc_tmpfiles_dir)
  set(ubc_tmpfiles_dir "${CMAKE_INSTALL_PREFIX}/lib/tmpfiles.d")
endif()

set(UBC_UDEV_RULES_DIR "${ubc_udev_dir}/rules.d" CACHE PATH "Where the udev rule goes")
set(UBC_SYSTEMD_UNIT_DIR "${ubc_unit_dir}" CACHE PATH "Where the systemd unit goes")
set(UBC_TMPFILES_DIR "${ubc_tmpfiles_dir}" CACHE PATH "Where the tmpfiles.d snippet goes")

install(FILES ${PROJECT_SOURCE_DIR}/udev/90-usb-backup-copier.rules
  DESTINATION ${UBC_UDEV_RULES_DIR})
install(FILES
  ${PROJECT_SOURCE_DIR}/systemd/usb-backup-copier@.service
  ${PROJECT_SOURCE_DIR}/systemd/usb-backup-copier-web.service
  ${PROJECT_SOURCE_DIR}/systemd/usb-backup-copier-stale.service
  ${PROJECT_SOURCE_DIR}/systemd/usb-backup-copier-stale.timer
  DESTINATION ${UBC_SYSTEMD_UNIT_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/systemd/usb-backup-copier.tmpfiles
  DESTINATION ${UBC_TMPFILES_DIR} RENAME usb-backup-copier.conf)
install(FILES
  ${PROJECT_SOURCE_DIR}/docs/man/usb-backup-copier.8
  ${PROJECT_SOURCE_DIR}/docs/man/veeam-lock.8
  ${PROJECT_SOURCE_DIR}/docs/man/veeam-unlock.8
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

# The Veeam job scripts where veeam-hooks/README.md says they are: the forced command of
# the hook key runs from here, the others are copied from here to the Veeam machines.
# Their README goes with the package's documentation.
set(ubc_hooks_dir ${CMAKE_INSTALL_DATADIR}/usb-backup-copier/veeam-hooks)
install(PROGRAMS
  ${PROJECT_SOURCE_DIR}/veeam-hooks/veeam-ssh-command.sh
  ${PROJECT_SOURCE_DIR}/veeam-hooks/veeam-agent-job.sh
  ${PROJECT_SOURCE_DIR}/veeam-hooks/veeam-agent-pre-job.sh
  ${PROJECT_SOURCE_DIR}/veeam-hooks/veeam-agent-post-job.sh
  DESTINATION ${ubc_hooks_dir})
install(FILES
  ${PROJECT_SOURCE_DIR}/veeam-hooks/usb-backup-copier-veeam.cmd
  ${PROJECT_SOURCE_DIR}/veeam-hooks/usb-backup-copier-veeam.ps1
  ${PROJECT_SOURCE_DIR}/veeam-hooks/veeam-hook.conf.example
  DESTINATION ${ubc_hooks_dir})
install(FILES ${PROJECT_SOURCE_DIR}/veeam-hooks/README.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME README.veeam-hooks.md)

# The configuration may hold the SMTP password: readable by root only.
install(FILES ${PROJECT_SOURCE_DIR}/config.ini.template
  DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/usb-backup-copier RENAME config.ini
  PERMISSIONS OWNER_READ OWNER_WRITE)
install(DIRECTORY DESTINATION ${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib/usb-backup-copier)
