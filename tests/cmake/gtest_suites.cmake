# Read by CTest (the directory's TEST_INCLUDE_FILES): one CTest entry per GoogleTest suite of
# neurocell_tests, and per parameter for the parameterised suites (the registry's conformance
# suite: one entry per cell), instead of one per test.
#
# Why: every process of neurocell_tests loads LibTorch and runs its static initialisers, about
# 0.8 s of CPU before the first test. With 327 entries that was 260 s of CPU, a third of the
# suite's; with one per suite (about 80) it is 60 s. A failing entry still names its suite, and
# its output (--output-on-failure) names the failing test.
#
# In: NEUROCELL_TESTS_EXE, the test executable (set by the generated file that includes this).
execute_process(COMMAND "${NEUROCELL_TESTS_EXE}" --gtest_list_tests
                OUTPUT_VARIABLE listing ERROR_VARIABLE listing_error RESULT_VARIABLE listing_rc)
if(NOT listing_rc EQUAL 0)
  # An entry that fails and says why, rather than a suite that silently runs no test.
  add_test(neurocell_tests.ListTests "${NEUROCELL_TESTS_EXE}" --gtest_list_tests)
  return()
endif()

set(groups "")
string(REPLACE "\n" ";" lines "${listing}")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "[ ]+#.*$" "" line "${line}")  # "  Test/param  # GetParam() = ..."
  if(line MATCHES "^([^ ].*)\\.$")
    set(suite "${CMAKE_MATCH_1}")
  elseif(line MATCHES "^  (.+)$")
    set(test "${CMAKE_MATCH_1}")
    if(test MATCHES "^DISABLED_" OR suite MATCHES "(^|/)DISABLED_")
      continue()
    endif()
    if(test MATCHES "/([^/]+)$")
      # A parameterised test "Name/param": grouped by parameter, filter "Suite.*/param".
      set(name "${suite}/${CMAKE_MATCH_1}")
      set(filter "${suite}.*/${CMAKE_MATCH_1}")
    else()
      set(name "${suite}")
      set(filter "${suite}.*")
    endif()
    list(FIND groups "${name}" seen)  # (not IN_LIST: CTest reads this file without policy CMP0057)
    if(seen EQUAL -1)
      list(APPEND groups "${name}")
      add_test("${name}" "${NEUROCELL_TESTS_EXE}" "--gtest_filter=${filter}")
    endif()
  endif()
endforeach()
