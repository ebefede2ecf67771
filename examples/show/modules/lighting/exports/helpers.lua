-- exports/helpers.lua
local M = {}

function M.format_name(first, last)
    return first .. " " .. last
end

function M.validate_email(email)
    return email:match("^[^@]+@[^@]+%.[^@]+$") ~= nil
end

return M
