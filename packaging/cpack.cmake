# Debian packages (CPack's DEB generator): `cmake --build BUILD --target
# package` writes cadre-master_<ver>_<arch>.deb, cadre-agent_... and
# cadre-client_... into BUILD. One component per package; the install()
# rules of master/, agent/ and cli/ name theirs. See docs/operations.md
# (Installing from the packages) and tests/packaging/.
include(GNUInstallDirs)

# `cmake --build BUILD --target package` builds everything first (the
# package target depends on all), so it works in a fresh build folder. A
# direct `cpack` builds nothing: tests/packaging builds just the three
# programs and runs cpack itself.

set(CADRE_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})
set(CADRE_PACKAGING_BUILD ${PROJECT_BINARY_DIR}/packaging)

# Man pages, changelog: lintian wants them compressed with gzip -9n (no
# name, no time stamp, so the package is reproducible).
set(cadre_gz_outputs)
function(cadre_gzip source output)
  add_custom_command(OUTPUT ${output}
                     COMMAND gzip -9nc ${source} > ${output}
                     DEPENDS ${source}
                     COMMENT "Compressing ${source}")
  set(cadre_gz_outputs ${cadre_gz_outputs} ${output} PARENT_SCOPE)
endfunction()
file(MAKE_DIRECTORY ${CADRE_PACKAGING_BUILD})
foreach(page cadre.1 cadre-master.8 cadre-agent.8)
  cadre_gzip(${CADRE_PACKAGING_DIR}/man/${page} ${CADRE_PACKAGING_BUILD}/${page}.gz)
endforeach()
# A native package (version without a Debian revision): changelog.gz.
cadre_gzip(${CADRE_PACKAGING_DIR}/debian/changelog ${CADRE_PACKAGING_BUILD}/changelog.gz)
add_custom_target(cadre_packaging_files ALL DEPENDS ${cadre_gz_outputs})

# ---- What each package holds ------------------------------------------
# Binaries: install(TARGETS ... COMPONENT master|agent|client) next to
# each target. /etc and /lib are absolute: Debian puts them outside /usr.
install(FILES ${CADRE_PACKAGING_DIR}/cadre.toml DESTINATION /etc/cadre COMPONENT client)
install(FILES ${CADRE_PACKAGING_BUILD}/cadre.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT client)
install(FILES ${CADRE_PACKAGING_DIR}/cadre.bash-completion DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME cadre COMPONENT client)
install(FILES ${CADRE_PACKAGING_DIR}/cadre-master.service DESTINATION /lib/systemd/system COMPONENT master)
install(FILES ${CADRE_PACKAGING_BUILD}/cadre-master.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT master)
install(FILES ${CADRE_PACKAGING_DIR}/cadre-agent.service ${CADRE_PACKAGING_DIR}/cadre-ranks.service
        DESTINATION /lib/systemd/system COMPONENT agent)
install(FILES ${CADRE_PACKAGING_BUILD}/cadre-agent.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT agent)
foreach(component master agent client)
  install(FILES ${CADRE_PACKAGING_DIR}/debian/copyright ${CADRE_PACKAGING_BUILD}/changelog.gz
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/cadre-${component} COMPONENT ${component})
endforeach()

# ---- CPack -------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL master agent client)
set(CPACK_PACKAGE_NAME cadre)
set(CPACK_PACKAGE_VENDOR "cadre")
set(CPACK_PACKAGE_CONTACT "cadre maintainers <maintainers@users.noreply.b-seed-f6dd3cec.example>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# cadre-master_0.1.0_amd64.deb
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
# Depends from the libraries the binaries link (dpkg-shlibdeps), plus the
# hand-written ones below.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Maintainer scripts must be 0755, data files 0644, whatever the checkout's umask.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(cadre_same_version "cadre-client (= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_CLIENT_PACKAGE_NAME cadre-client)
set(CPACK_DEBIAN_MASTER_PACKAGE_NAME cadre-master)
set(CPACK_DEBIAN_AGENT_PACKAGE_NAME cadre-agent)
set(CPACK_DEBIAN_CLIENT_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_MASTER_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_AGENT_PACKAGE_SECTION admin)
# The master's postinst creates the cadre user (adduser) and its key with
# `cadre keygen`; ranks on agents call `cadre run` and `cadre rsh`.
# libsodium23: CURVE (cadre keygen, encrypted tcp) is libzmq's, which does
# it with libsodium; dpkg-shlibdeps sees only the libraries linked directly.
set(CPACK_DEBIAN_MASTER_PACKAGE_DEPENDS "adduser, libsodium23, ${cadre_same_version}")
set(CPACK_DEBIAN_AGENT_PACKAGE_DEPENDS "libsodium23, ${cadre_same_version}")
set(CPACK_DEBIAN_CLIENT_PACKAGE_DEPENDS "libsodium23")

set(CPACK_COMPONENT_CLIENT_DESCRIPTION "cadre cluster scheduler: command-line client
cadre submits, lists and cancels jobs of a cadre cluster, runs job steps
(cadre run, cadre rsh) and writes CURVE key pairs (cadre keygen). This
package also holds the configuration shared by the master and the agents,
/etc/cadre/cadre.toml.")
set(CPACK_COMPONENT_MASTER_DESCRIPTION "cadre cluster scheduler: master daemon
cadre-master keeps the job queue in SQLite, schedules gangs of ranks onto
the nodes whose agents registered with it (backfill, fair share,
partitions, preemption) and serves the cadre command. It runs as the
cadre system user under systemd.")
set(CPACK_COMPONENT_AGENT_DESCRIPTION "cadre cluster scheduler: node agent
cadre-agent runs on every compute node: it registers the node with the
master and runs ranks as the submitting users, each under a supervisor
and in its own cgroup, so that ranks survive agent restarts and upgrades.
Start it with the line `cadre-master enroll-agent NAME` prints.")

set(cadre_scripts ${CADRE_PACKAGING_DIR}/debian)
set(CPACK_DEBIAN_CLIENT_PACKAGE_CONTROL_EXTRA ${cadre_scripts}/client/conffiles)
set(CPACK_DEBIAN_MASTER_PACKAGE_CONTROL_EXTRA
    ${cadre_scripts}/master/postinst ${cadre_scripts}/master/prerm ${cadre_scripts}/master/postrm)
set(CPACK_DEBIAN_AGENT_PACKAGE_CONTROL_EXTRA
    ${cadre_scripts}/agent/postinst ${cadre_scripts}/agent/prerm ${cadre_scripts}/agent/postrm)

include(CPack)
