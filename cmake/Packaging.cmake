# Install layout and the Debian package (cpack -G DEB). Under the prefix (the package's: /usr):
# binaries in bin/, the systemd unit in lib/systemd/system/, the man page, docs and dashboard under
# share/. The example config goes to /etc/veil/relay.toml whatever the prefix (the unit reads it
# there).
include(GNUInstallDirs)

install(TARGETS veil-relay veil RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# 0640: the config holds recipients' access keys (postinst gives it to group veil).
install(FILES ${PROJECT_SOURCE_DIR}/config/relay.example.toml
        DESTINATION /etc/veil RENAME relay.toml PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/veil-relay.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/veil-relay.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/grafana/veil-relay.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/veil-relay/grafana)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/config.md
              ${PROJECT_SOURCE_DIR}/docs/relay.md ${PROJECT_SOURCE_DIR}/docs/directory.md
              ${PROJECT_SOURCE_DIR}/docs/journal.md ${PROJECT_SOURCE_DIR}/docs/metrics.md
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/veil-relay)

set(CPACK_PACKAGE_NAME veil-relay)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Veil")
set(CPACK_PACKAGE_CONTACT "Veil maintainers <veil@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "metadata-privacy relay for sealed-sender messages")
set(CPACK_PACKAGE_DESCRIPTION
    "A sidecar next to a messenger server that strips sender metadata from sealed-sender envelopes, pads them to one size, mixes them with cover traffic and forwards them over TLS links to the receiving provider's relay.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_WARN_ON_ABSOLUTE_INSTALL_DESTINATION OFF)  # /etc/veil, on purpose
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends from the binaries' libraries (dpkg-shlibdeps)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
