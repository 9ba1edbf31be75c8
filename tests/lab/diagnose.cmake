# lab.diagnose: lib/diagnose against the DNS lab (included from tests/lab/CMakeLists.txt).
add_executable(test_diagnose ${CMAKE_CURRENT_LIST_DIR}/test_diagnose.c)
target_link_libraries(test_diagnose PRIVATE caa PkgConfig::JANSSON)

add_test(NAME lab.diagnose
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/run.sh $<TARGET_FILE:caa-faultdns>
                 $<TARGET_FILE:test_diagnose>)
set_tests_properties(lab.diagnose PROPERTIES LABELS lab RESOURCE_LOCK lab TIMEOUT 300)
