# Install rules and the Debian package: `cpack -G DEB` in the build folder
# makes chat-node_<version>_amd64.deb (packaging/README.md). Included from
# the top-level CMakeLists.txt, after the targets.

# The unit's ExecStart= names /usr/bin/chat-node: install where it looks.
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Install prefix" FORCE)
endif()
include(GNUInstallDirs)

# Full RELRO and immediate binding for the two programs we ship (lintian's
# hardening-no-relro); link flags only, so no object file changes.
foreach(program chat-node chat-client)
  target_link_options(${program} PRIVATE -Wl,-z,relro -Wl,-z,now)
endforeach()

set(chat_pkg "${CMAKE_CURRENT_SOURCE_DIR}/packaging")
set(chat_doc "${CMAKE_INSTALL_DATADIR}/doc/chat-node")
install(TARGETS chat-node chat-client
        RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
# CPACK_STRIP_FILES runs a plain `strip`; like dh_strip, also drop the
# compiler's .comment and .note (lintian's binary-has-unneeded-section).
foreach(program chat-node chat-client)
  install(CODE "
    if(CMAKE_INSTALL_DO_STRIP)
      execute_process(COMMAND \"${CMAKE_STRIP}\" --remove-section=.comment
        --remove-section=.note
        \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/${program}\"
        RESULT_VARIABLE failed)
      if(failed)
        message(FATAL_ERROR \"strip ${program} failed\")
      endif()
    endif()")
endforeach()
# Bookworm's units still live under /lib (the /usr merge moves them later).
install(FILES "${chat_pkg}/chat-node.service"
        DESTINATION /lib/systemd/system)
install(FILES "${chat_pkg}/chat-node.ini" DESTINATION /etc/chat-node)
install(FILES "${chat_pkg}/copyright" README.md DESTINATION "${chat_doc}")

# Debian wants the changelog and man pages gzipped, without a timestamp.
set(chat_gz "${CMAKE_CURRENT_BINARY_DIR}/packaging")
file(MAKE_DIRECTORY "${chat_gz}")
foreach(file changelog chat-node.1 chat-client.1)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               "${chat_pkg}/${file}")
  execute_process(COMMAND gzip -9nc "${chat_pkg}/${file}"
                  OUTPUT_FILE "${chat_gz}/${file}.gz"
                  RESULT_VARIABLE chat_gzip_failed)
  if(chat_gzip_failed)
    message(FATAL_ERROR "gzip packaging/${file} failed")
  endif()
endforeach()
install(FILES "${chat_gz}/changelog.gz" DESTINATION "${chat_doc}")
install(FILES "${chat_gz}/chat-node.1.gz" "${chat_gz}/chat-client.1.gz"
        DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME chat-node)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER
    "chat-node maintainers <maintainers@users.noreply.r-seed-8e8d427e.example>"
    CACHE STRING "Maintainer: field of the Debian package")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps derives the libraries' packages from the binaries; procps
# has the /bin/kill of the unit's ExecReload=.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS procps)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "WebSocket chat server on the actor model, with a terminal client")
# CPack puts the summary above this, as the first line.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"chat-node is a chat server in C++ on the C++ Actor Framework: a main room,
private chats, paging, and a chat page it serves itself, over WebSocket;
several nodes can act as one chat. chat-client is its terminal client.
.
The package runs chat-node as the systemd service chat-node.service, with
a dynamic user and systemd's sandboxing, configured in
/etc/chat-node/chat-node.ini.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${chat_pkg}/conffiles" "${chat_pkg}/postinst" "${chat_pkg}/prerm"
    "${chat_pkg}/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
