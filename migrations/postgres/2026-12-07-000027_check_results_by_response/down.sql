DROP INDEX check_results_by_response;
