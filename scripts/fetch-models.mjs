console.log("models: skipped (placeholder until fetch-models is written)")
