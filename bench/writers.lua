-- bench/writers: every request creates a contact through the API (args: the API key).
function init(args)
  key = args[1]
end

function request()
  return wrk.format("POST", "/api/v1/contacts",
    { ["X-Api-Key"] = key, ["Content-Type"] = "application/json" },
    '{"first_name":"Writer","last_name":"Bench"}')
end
