# lab.ubevent: lib/ubevent (libunbound's pluggable event base on caad's loop)
# against the DNS lab, with a thread-mode comparison (included from
# tests/lab/CMakeLists.txt).
add_executable(test_ubevent ${CMAKE_CURRENT_LIST_DIR}/test_ubevent.c)
target_link_libraries(test_ubevent PRIVATE caa)

add_test(NAME lab.ubevent
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/run.sh $<TARGET_FILE:caa-faultdns>
                 $<TARGET_FILE:test_ubevent>)
set_tests_properties(lab.ubevent PROPERTIES LABELS lab RESOURCE_LOCK lab TIMEOUT 300)
