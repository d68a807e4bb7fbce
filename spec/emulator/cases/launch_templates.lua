-- Launch templates and versions: create, versions, default version, the delete rules,
-- limits, validation and the documented response shapes.
return function(world)
  describe(world.name .. " emulator: launch templates", function()
    before_each(world.reset)
    local R = "cn-hangzhou"

    it("creates a template with version 1 and gives its data back typed", function()
      local ecs = world.ecs()
      local res = assert(ecs:CreateLaunchTemplate { RegionId = R, LaunchTemplateName = "web-tpl",
        ImageId = "ubuntu_22_04_x64_20G_alibase_20240101.vhd", InstanceType = "ecs.g7.large",
        SystemDisk = { Category = "cloud_essd", Size = 40 }, DataDisk = { { Category = "cloud_essd", Size = 100 } },
        Tag = { { Key = "team", Value = "web" } }, VersionDescription = "first" })
      assert.matches("^lt%-", res.LaunchTemplateId)
      local list = assert(ecs:DescribeLaunchTemplates { RegionId = R })
      assert.are.equal(1, list.TotalCount)
      local t = list.LaunchTemplateSets.LaunchTemplateSet[1]
      assert.are.equal("web-tpl", t.LaunchTemplateName)
      assert.are.equal(1, t.DefaultVersionNumber)
      assert.are.equal(1, t.LatestVersionNumber)
      local v = assert(ecs:DescribeLaunchTemplateVersions { RegionId = R, LaunchTemplateId = res.LaunchTemplateId })
      local set = v.LaunchTemplateVersionSets.LaunchTemplateVersionSet[1]
      assert.is_true(set.DefaultVersion)
      assert.are.equal(1, set.VersionNumber)
      assert.are.equal("first", set.VersionDescription)
      assert.are.equal(40, set.LaunchTemplateData.SystemDisk.Size)
      assert.are.equal(100, set.LaunchTemplateData.DataDisks.DataDisk[1].Size)
      assert.are.equal("web", set.LaunchTemplateData.Tags.InstanceTag[1].Value)
    end)

    it("adds versions, moves the default, and refuses to delete the default version", function()
      local ecs = world.ecs()
      local id = assert(ecs:CreateLaunchTemplate { RegionId = R, LaunchTemplateName = "tpl" }).LaunchTemplateId
      local v2 = assert(ecs:CreateLaunchTemplateVersion { RegionId = R, LaunchTemplateName = "tpl",
        InstanceType = "ecs.c7.xlarge" })
      assert.are.equal(2, v2.LaunchTemplateVersionNumber)
      local _, err = ecs:DeleteLaunchTemplateVersion { RegionId = R, LaunchTemplateId = id, DeleteVersion = { 1 } }
      assert.are.equal("InvalidOperation.DeleteDefaultVersion", err.code)
      assert.are.equal(403, err.status)
      assert(ecs:ModifyLaunchTemplateDefaultVersion { RegionId = R, LaunchTemplateId = id, DefaultVersionNumber = 2 })
      assert(ecs:DeleteLaunchTemplateVersion { RegionId = R, LaunchTemplateId = id, DeleteVersion = { 1 } })
      local v = assert(ecs:DescribeLaunchTemplateVersions { RegionId = R, LaunchTemplateId = id })
      assert.are.equal(1, v.TotalCount)
      assert.are.equal(2, v.LaunchTemplateVersionSets.LaunchTemplateVersionSet[1].VersionNumber)
      _, err = ecs:ModifyLaunchTemplateDefaultVersion { RegionId = R, LaunchTemplateId = id, DefaultVersionNumber = 1 }
      assert.are.equal("InvalidLaunchTemplateVersion.NotFound", err.code)
      _, err = ecs:DeleteLaunchTemplateVersion { RegionId = R, LaunchTemplateId = id, DeleteVersion = { 7 } }
      assert.are.equal("InvalidLaunchTemplateVersion.NotFound", err.code)
      assert(ecs:DeleteLaunchTemplate { RegionId = R, LaunchTemplateId = id })
      _, err = ecs:DescribeLaunchTemplateVersions { RegionId = R, LaunchTemplateId = id }
      assert.are.equal("InvalidLaunchTemplate.NotFound", err.code)
      assert.are.equal(400, err.status)
      assert.are.equal(0, assert(ecs:DescribeLaunchTemplates { RegionId = R }).TotalCount)
    end)

    it("filters versions by number, range and default flag", function()
      local ecs = world.ecs()
      local id = assert(ecs:CreateLaunchTemplate { RegionId = R, LaunchTemplateName = "many" }).LaunchTemplateId
      for _ = 2, 4 do assert(ecs:CreateLaunchTemplateVersion { RegionId = R, LaunchTemplateId = id }) end
      local function numbers(p)
        p.RegionId, p.LaunchTemplateId = R, id
        local out = {}
        for i, s in ipairs(assert(ecs:DescribeLaunchTemplateVersions(p)).LaunchTemplateVersionSets
          .LaunchTemplateVersionSet) do out[i] = s.VersionNumber end
        return out
      end
      assert.are.same({ 2, 4 }, numbers { LaunchTemplateVersion = { 2, 4 } })
      assert.are.same({ 2, 3 }, numbers { MinVersion = 2, MaxVersion = 3 })
      assert.are.same({ 1 }, numbers { DefaultVersion = true })
      assert.are.same({ 3, 4 }, numbers { PageSize = 2, PageNumber = 2 })
      local v = assert(ecs:DescribeLaunchTemplateVersions { RegionId = R, LaunchTemplateId = id, DetailFlag = false })
      assert.is_nil(v.LaunchTemplateVersionSets.LaunchTemplateVersionSet[1].LaunchTemplateData)
    end)

    it("enforces names, descriptions, user data, duplicates and the lookup rule", function()
      local ecs = world.ecs()
      local function code(p)
        p.RegionId = R
        local _, err = ecs:CreateLaunchTemplate(p)
        return err and err.code, err and err.status
      end
      assert.are.same({ "InvalidLaunchTemplateName.Malformed", 400 }, { code { LaunchTemplateName = "9lives" } })
      assert.are.same({ "InvalidDescription.Malformed", 400 }, { code { LaunchTemplateName = "ok",
        VersionDescription = "http://x" } })
      assert.are.same({ "InvalidUserData.Base64FormatInvalid", 400 }, { code { LaunchTemplateName = "ok",
        UserData = "not base64!" } })
      assert(ecs:CreateLaunchTemplate { RegionId = R, LaunchTemplateName = "ok", UserData = "ZWNobyBoaQ==" })
      assert.are.same({ "LaunchTemplateName.Duplicated", 403 }, { code { LaunchTemplateName = "ok" } })
      local _, err = ecs:DeleteLaunchTemplate { RegionId = R }
      assert.are.equal("MissingParameter", err.code)
    end)

    it("limits templates per region to 30 and versions per template to 30", function()
      local ecs = world.ecs()
      for i = 1, 30 do assert(ecs:CreateLaunchTemplate { RegionId = "cn-beijing", LaunchTemplateName = "t" .. i }) end
      local _, err = ecs:CreateLaunchTemplate { RegionId = "cn-beijing", LaunchTemplateName = "t31" }
      assert.are.equal("LaunchTemplateLimitExceed", err.code)
      assert.are.equal(403, err.status)
      for _ = 2, 30 do assert(ecs:CreateLaunchTemplateVersion { RegionId = "cn-beijing", LaunchTemplateName = "t1" }) end
      _, err = ecs:CreateLaunchTemplateVersion { RegionId = "cn-beijing", LaunchTemplateName = "t1" }
      assert.are.equal("LaunchTemplateVersionLimitExceed", err.code)
      local page = assert(ecs:DescribeLaunchTemplates { RegionId = "cn-beijing", PageSize = 50 })
      assert.are.equal(30, #page.LaunchTemplateSets.LaunchTemplateSet)
    end)
  end)
end
