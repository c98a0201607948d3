package mail

import "fmt"

// Message kinds about study runner builds, to the study's admins.
const (
	KindRunnerBuilt       = "runner_built"
	KindRunnerBuildFailed = "runner_build_failed"
)

// RunnerBuilt tells a study's admins that its experiment runner is built and the study can be
// previewed and started.
func RunnerBuilt(study, sha string) Content {
	return Content{KindRunnerBuilt, fmt.Sprintf("Experiment runner built for %s", study), fmt.Sprintf(
		"The experiment runner of the study %q is built (commit %s). You can preview the study now.\n", study, sha)}
}

// RunnerBuildFailed tells a study's admins that its runner build failed, with where to read why.
func RunnerBuildFailed(study, sha, status, logURL string) Content {
	where := "The build log is in Cloud Build."
	if logURL != "" {
		where = "The build log: " + logURL
	}
	return Content{KindRunnerBuildFailed, fmt.Sprintf("Experiment runner failed to build for %s", study), fmt.Sprintf(
		"The experiment runner of the study %q could not be built (commit %s, %s).\n\n%s\n\nCheck the runner repository and commit in the study's settings, then ask for a build again.\n",
		study, sha, status, where)}
}
